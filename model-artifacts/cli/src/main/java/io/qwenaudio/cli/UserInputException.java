package io.qwenaudio.cli;

/** Bad command-line input: reported as one line on stderr with exit code 2. */
final class UserInputException extends RuntimeException {
    UserInputException(String message) {
        super(message);
    }
}
