package io.qwenaudio.text;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code tojson} filter as transformers defines it for chat templates: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=indent)}, so separators are {@code ", "} and {@code ": "} (or
 * {@code ","} at line ends with an indent) and non-ASCII text is kept. Jinjava's own {@code tojson} writes compact
 * JSON, which would change the prompt.
 */
final class PythonJsonFilter implements Filter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
        return dumps(var, indent == null ? -1 : ((Number) indent).intValue());
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        return dumps(var, args.length > 0 && args[0] != null ? Integer.parseInt(args[0]) : -1);
    }

    /** {@code json.dumps(x, ensure_ascii=False, indent=indent)}; {@code indent < 0} means none. */
    static String dumps(Object x, int indent) {
        StringBuilder s = new StringBuilder();
        write(x, indent, 0, s);
        return s.toString();
    }

    private static void write(Object x, int indent, int depth, StringBuilder s) {
        if (x == null) {
            s.append("null");
        } else if (x instanceof Boolean b) {
            s.append(b ? "true" : "false");
        } else if (x instanceof Double || x instanceof Float) {
            double d = ((Number) x).doubleValue();
            s.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
                    : d == Math.rint(d) && Math.abs(d) < 1e16 ? String.valueOf((long) d) + ".0" : String.valueOf(d));
        } else if (x instanceof Number n) {
            s.append(n);
        } else if (x instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                s.append("{}");
                return;
            }
            s.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) s.append(indent >= 0 ? "," : ", ");
                first = false;
                newline(indent, depth + 1, s);
                string(String.valueOf(e.getKey()), s);
                s.append(": ");
                write(e.getValue(), indent, depth + 1, s);
            }
            newline(indent, depth, s);
            s.append('}');
        } else if (x instanceof Iterable<?> || x.getClass().isArray()) {
            List<Object> items = new ArrayList<>();
            if (x instanceof Iterable<?> it) {
                for (Object o : it) items.add(o);
            } else {
                for (int i = 0; i < Array.getLength(x); i++) items.add(Array.get(x, i));
            }
            if (items.isEmpty()) {
                s.append("[]");
                return;
            }
            s.append('[');
            for (int i = 0; i < items.size(); i++) {
                if (i > 0) s.append(indent >= 0 ? "," : ", ");
                newline(indent, depth + 1, s);
                write(items.get(i), indent, depth + 1, s);
            }
            newline(indent, depth, s);
            s.append(']');
        } else {
            string(x.toString(), s);
        }
    }

    private static void newline(int indent, int depth, StringBuilder s) {
        if (indent < 0) return;
        s.append('\n');
        s.append(" ".repeat(indent * depth));
    }

    /** A JSON string as Python writes it with ensure_ascii=False: only ", \\ and control characters escaped. */
    private static void string(String v, StringBuilder s) {
        s.append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                case '\b' -> s.append("\\b");
                case '\f' -> s.append("\\f");
                default -> {
                    if (c < 0x20) s.append(String.format("\\u%04x", (int) c));
                    else s.append(c);
                }
            }
        }
        s.append('"');
    }
}
