package io.qwenaudio.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP/1.1 client on a plain socket, for requests an ordinary client will not send: any method, a
 * {@code Content-Length} that lies, a chunked body that is empty, a body that stops half way. Measures the time to the
 * answer. One request per connection ({@code Connection: close}).
 */
public final class RawHttp {

    /** An answer: status, headers (lower-case names), body, and milliseconds from sending to the end of the answer. */
    public record Answer(int status, Map<String, String> headers, byte[] body, long millis) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /**
     * A request as bytes on the wire.
     *
     * @param headers   sent as given (add {@code content-length} or {@code transfer-encoding} yourself, or use
     *                  {@link #withBody})
     * @param body      bytes written after the headers (as they are: chunk framing included when chunked)
     */
    public record Request(String method, String path, Map<String, String> headers, byte[] body) {

        /** A request with a complete body and its {@code Content-Length}. */
        public static Request withBody(String method, String path, Map<String, String> headers, byte[] body) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.putIfAbsent("content-length", Integer.toString(body.length));
            return new Request(method, path, h, body);
        }

        /** A chunked request whose body is the given bytes in one chunk (none when empty). */
        public static Request chunked(String method, String path, Map<String, String> headers, byte[] body) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put("transfer-encoding", "chunked");
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            if (body.length > 0) {
                b.writeBytes((Integer.toHexString(body.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                b.writeBytes(body);
                b.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            b.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new Request(method, path, h, b.toByteArray());
        }

        /** Announces {@code declared} bytes and sends only {@code body} (shorter): a stalled upload. */
        public static Request stalled(String method, String path, Map<String, String> headers, byte[] body, long declared) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put("content-length", Long.toString(declared));
            return new Request(method, path, h, body);
        }
    }

    private final String host;
    private final int port;
    private final int timeoutMs;

    /** @param timeoutMs how long to wait for an answer before giving up (the answer then has status -1) */
    public RawHttp(String host, int port, int timeoutMs) {
        this.host = host;
        this.port = port;
        this.timeoutMs = timeoutMs;
    }

    public Answer send(Request r) throws IOException {
        long t0 = System.nanoTime();
        try (Socket s = new Socket(host, port)) {
            s.setSoTimeout(timeoutMs);
            OutputStream out = s.getOutputStream();
            StringBuilder head = new StringBuilder(r.method()).append(' ').append(r.path()).append(" HTTP/1.1\r\n");
            head.append("host: ").append(host).append(':').append(port).append("\r\n");
            head.append("connection: close\r\n");
            r.headers().forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            head.append("\r\n");
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            try {
                out.write(r.body());
                out.flush();
            } catch (IOException e) {
                // the server may answer and close before it read the whole body (e.g. 413 on the header alone)
            }
            try {
                return read(s.getInputStream(), t0);
            } catch (SocketTimeoutException e) {
                return new Answer(-1, Map.of(), new byte[0], (System.nanoTime() - t0) / 1_000_000);
            }
        }
    }

    private static Answer read(InputStream in, long t0) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        int headerEnd = -1;
        while ((n = in.read(buf)) >= 0) {
            all.write(buf, 0, n);
            byte[] b = all.toByteArray();
            if (headerEnd < 0) headerEnd = indexOf(b, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            if (headerEnd >= 0 && complete(b, headerEnd)) break;
        }
        long millis = (System.nanoTime() - t0) / 1_000_000;
        byte[] b = all.toByteArray();
        if (headerEnd < 0) return new Answer(-1, Map.of(), b, millis);
        String[] lines = new String(b, 0, headerEnd, StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
        }
        byte[] body = Arrays.copyOfRange(b, headerEnd + 4, b.length);
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) body = dechunk(body);
        return new Answer(status, headers, body, millis);
    }

    /** True when the answer's body is all there (by Content-Length, or the last chunk). */
    private static boolean complete(byte[] b, int headerEnd) {
        String head = new String(b, 0, headerEnd, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
        int cl = head.indexOf("\r\ncontent-length:");
        if (cl >= 0) {
            int end = head.indexOf("\r\n", cl + 2);
            long len = Long.parseLong(head.substring(cl + 17, end < 0 ? head.length() : end).trim());
            return b.length - headerEnd - 4 >= len;
        }
        if (head.contains("transfer-encoding: chunked")) {
            return indexOf(b, "\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)) >= 0
                    || (b.length - headerEnd - 4 >= 5 && new String(b, headerEnd + 4, 5, StandardCharsets.US_ASCII).equals("0\r\n\r\n"));
        }
        return false; // until the server closes
    }

    private static byte[] dechunk(byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int p = 0;
        while (p < b.length) {
            int eol = indexOf(b, "\r\n".getBytes(StandardCharsets.US_ASCII), p);
            if (eol < 0) break;
            String size = new String(b, p, eol - p, StandardCharsets.US_ASCII).split(";")[0].trim();
            int n = size.isEmpty() ? 0 : Integer.parseInt(size, 16);
            if (n == 0) break;
            out.write(b, eol + 2, Math.min(n, b.length - eol - 2));
            p = eol + 2 + n + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] b, byte[] pat) {
        return indexOf(b, pat, 0);
    }

    private static int indexOf(byte[] b, byte[] pat, int from) {
        outer:
        for (int i = from; i <= b.length - pat.length; i++) {
            for (int j = 0; j < pat.length; j++) if (b[i + j] != pat[j]) continue outer;
            return i;
        }
        return -1;
    }
}
