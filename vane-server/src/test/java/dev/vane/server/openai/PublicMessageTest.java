package dev.vane.server.openai;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Messages for clients keep what was wrong and lose where the server keeps its files and what it runs on. */
class PublicMessageTest {
    @Test
    void absolutePathsKeepOnlyTheirFileName() {
        assertThat(PublicMessage.of("/srv/models/qwen/tokenizer_config.json (chat_template): cannot render: line 1: bad tag"))
                .isEqualTo("tokenizer_config.json (chat_template): cannot render: line 1: bad tag");
        assertThat(PublicMessage.of("C:\\models\\qwen\\tokenizer.json: not valid JSON")).isEqualTo("tokenizer.json: not valid JSON");
        assertThat(PublicMessage.of("'/home/me/m/config.json' is broken")).isEqualTo("'config.json' is broken");
    }

    @Test
    void qualifiedJavaClassNamesAreDropped() {
        assertThat(PublicMessage.of("java.lang.IllegalStateException: boom")).isEqualTo("boom");
        assertThat(PublicMessage.of("failed: com.fasterxml.jackson.core.JsonParseException: bad token")).isEqualTo("failed: bad token");
    }

    @Test
    void ordinaryTextIsLeftAlone() {
        for (String plain : new String[]{"max_tokens must be <= 2048, got 4096", "part 3/4 of the data", "./rel/file.json",
                "chat template raised: no system prompts here"}) {
            assertThat(PublicMessage.of(plain)).isEqualTo(plain);
        }
        assertThat(PublicMessage.withoutCode("Document nesting too deep (from `StreamReadConstraints.getMaxNestingDepth()`)"))
                .doesNotContain("`").doesNotContain("StreamReadConstraints");
    }
}
