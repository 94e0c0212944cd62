package android.os;

import java.util.Map;
import java.util.TreeMap;

/** Host double: string values only, keys sorted (as `am` prints them). */
public class Bundle {
    final TreeMap<String, String> values = new TreeMap<>();
    public void putString(String key, String value) { values.put(key, value); }
    public String getString(String key) { return values.get(key); }
    public Map<String, String> entries() { return values; }
}
