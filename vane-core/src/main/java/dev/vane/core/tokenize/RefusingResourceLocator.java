package dev.vane.core.tokenize;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.loader.ResourceLocator;

import java.io.IOException;
import java.nio.charset.Charset;

/**
 * A resource locator that finds nothing. Chat templates are one self-contained file from a download; jinjava's
 * default locator would let {@code include}, {@code import}, {@code from} and {@code extends} read resources from
 * the class path. Those tags are also disabled; this is the second lock.
 *
 * <pre>{@code
 * jinjava.setResourceLocator(new RefusingResourceLocator());
 * }</pre>
 */
final class RefusingResourceLocator implements ResourceLocator {
    @Override
    public String getString(String fullName, Charset encoding, JinjavaInterpreter interpreter) throws IOException {
        throw new IOException("chat templates cannot load other files ('" + fullName + "')");
    }
}
