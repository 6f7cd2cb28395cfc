package dev.vane.core.tokenize;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.interpret.Context.Library;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.time.ZoneId;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * jinjava set up to behave like transformers' chat-template environment, Jinja2's
 * {@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])} with
 * {@code raise_exception}, {@code strftime_now} and a {@code tojson} that calls {@code json.dumps}. What differs
 * from jinjava's defaults and why is in docs/decisions.md ("Tokenization and chat templates").
 *
 * <pre>{@code
 * Jinjava jinjava = TemplateEnvironment.create();
 * RenderResult result = RenderBudget.run(TemplateEnvironment.MAX_STEPS, () -> jinjava.renderForResult(source, vars));
 * }</pre>
 */
final class TemplateEnvironment {
    /** Longest rendered prompt (characters); far above any context window, far below a memory problem. */
    static final long MAX_OUTPUT_CHARS = 16L * 1024 * 1024;
    /** Deepest macro recursion; templates that render JSON schemas recurse a few levels. */
    static final int MAX_MACRO_DEPTH = 64;
    /** Most steps (nodes rendered plus loop iterations) one render may take, a few seconds at most; see {@link RenderBudget}. */
    static final long MAX_STEPS = 5_000_000;

    /**
     * jinjava's "legacy overrides" that make it closer to Jinja2: Python-style printing of lists and dicts,
     * {@code {{- x -}}} trimming around expressions, map keys as expressions, iterating a dict gives its keys,
     * backslashes only special inside quotes, operator precedence as in Python. Not
     * {@code whitespaceRequiredWithinTokens}: with it jinjava prints {@code {%- if ... -%}} literally.
     */
    private static final LegacyOverrides JINJA2_BEHAVIOUR = LegacyOverrides.newBuilder()
            .withEvaluateMapKeys(true)
            .withIterateOverMapKeys(true)
            .withUsePyishObjectMapper(true)
            .withUseNaturalOperatorPrecedence(true)
            .withParseWhitespaceControlStrictly(true)
            .withAllowAdjacentTextNodes(true)
            .withUseTrimmingForNotesAndExpressions(true)
            .withKeepNullableLoopValues(true)
            .withHandleBackslashInQuotesOnly(true)
            .build();

    private TemplateEnvironment() {
    }

    /** A new jinjava instance; renders on one instance must not overlap (its global context is shared state). */
    static Jinjava create() {
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                // lstrip_blocks=True is applied to the source by TemplateSource: jinjava's own strips the spaces
                // before every tag, not only before a tag that starts its line.
                .withLstripBlocks(false)
                // jinjava's "false" strips the output's last newline; Jinja2 strips the template source's, which
                // TemplateSource does (a ChatML render ends in a newline that must stay).
                .withKeepTrailingNewline(true)
                .withLegacyOverrides(JINJA2_BEHAVIOUR)
                // jinjava would render {{ }} found inside variable values (a user message saying "{{ 7*7 }}").
                .withNestedInterpretationEnabled(false)
                .withElResolver(new SandboxResolver())
                .withDisabled(Map.of(
                        Library.TAG, Set.of("include", "import", "from", "extends"),
                        Library.FILTER, Set.of("render")))
                .withMaxOutputSize(MAX_OUTPUT_CHARS)
                .withMaxStringLength(MAX_OUTPUT_CHARS)
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(MAX_MACRO_DEPTH)
                .withProcessors(JinjavaProcessors.newBuilder().withNodePreProcessor(RenderBudget.CHECK).build())
                .withLocale(Locale.ENGLISH)
                .withTimeZone(ZoneId.systemDefault())
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.setResourceLocator(new RefusingResourceLocator());
        jinjava.registerTag(new LoopFilterForTag());
        jinjava.registerFilter(new PythonJsonFilter());
        jinjava.registerFilter(new PythonTrimFilter());
        Jinja2TypeCheck.ALL.forEach(jinjava::registerExpTest);
        jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", TemplateFunctions.class,
                "raiseException", Object.class));
        jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now", TemplateFunctions.class,
                "strftimeNow", String.class));
        return jinjava;
    }
}
