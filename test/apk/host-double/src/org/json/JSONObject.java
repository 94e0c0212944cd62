package org.json;

/** Host double: JSONObject.quote exactly as Android's org.json (JSONStringer.string) writes it. */
public class JSONObject {
    public static String quote(String data) {
        if (data == null) return "\"\"";
        StringBuilder out = new StringBuilder("\"");
        for (int i = 0, length = data.length(); i < length; i++) {
            char c = data.charAt(i);
            switch (c) {
                case '"': case '\\': case '/': out.append('\\').append(c); break;
                case '\t': out.append("\\t"); break;
                case '\b': out.append("\\b"); break;
                case '\n': out.append("\\n"); break;
                case '\r': out.append("\\r"); break;
                case '\f': out.append("\\f"); break;
                default:
                    if (c <= 0x1F) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
