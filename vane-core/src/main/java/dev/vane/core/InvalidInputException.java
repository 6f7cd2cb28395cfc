package dev.vane.core;

/**
 * Input from outside (a checkpoint, a config, a reference file, a request) is malformed or does not fit.
 *
 * <p>The message names the file or value and says what is wrong, so a user can act on it without a stack
 * trace. The CLI turns this exception into exit code 2.
 *
 * <pre>{@code
 * throw new InvalidInputException(path, "header length 9000 runs past the end of the file (120 bytes)");
 * }</pre>
 */
public class InvalidInputException extends RuntimeException {
    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A problem with a file: the message reads {@code "<path>: <problem>"}. */
    public InvalidInputException(java.nio.file.Path file, String problem) {
        super(file + ": " + problem);
    }
}
