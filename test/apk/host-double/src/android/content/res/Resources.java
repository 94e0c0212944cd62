package android.content.res;

import java.util.HashMap;
import java.util.Map;

/** Host double: stable ids for resource names (0 for unknown ones, like Android). */
public class Resources {
    private static final String[] KNOWN = { "layout/main", "id/script", "id/run", "id/status", "id/results" };
    private final Map<String, Integer> ids = new HashMap<>();

    public Resources() {
        for (int k = 0; k < KNOWN.length; k++) ids.put(KNOWN[k], 0x7f010000 + k);
    }

    public int getIdentifier(String name, String defType, String defPackage) {
        if (!"dev.ashmemharness.fixture".equals(defPackage)) return 0;
        Integer id = ids.get(defType + "/" + name);
        return id == null ? 0 : id;
    }
}
