package android.util;

/** Host double of android.util.Base64.decode(String, DEFAULT). */
public class Base64 {
    public static byte[] decode(String str, int flags) {
        return java.util.Base64.getDecoder().decode(str.replaceAll("\\s", ""));
    }
}
