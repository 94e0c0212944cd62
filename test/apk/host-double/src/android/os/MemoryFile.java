package android.os;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Host double of android.os.MemoryFile, shaped like API 27+ (a purge is reported once as
 * "MemoryFile has been purged", then the data reads as zeros). It exists to run the fixture's
 * own code on a JVM; it is NOT a model of Android: the harness's model is in harness/model/.
 */
public class MemoryFile {
    private static final List<MemoryFile> ALL = new ArrayList<>();
    private final byte[] data;
    private boolean allowPurging;
    private boolean purged;
    private boolean closed;

    public MemoryFile(String name, int length) throws IOException {
        if (length <= 0) throw new IllegalArgumentException("Size must be greater than zero");
        data = new byte[length];
        ALL.add(this);
    }

    public synchronized boolean allowPurging(boolean allow) throws IOException {
        boolean old = allowPurging;
        allowPurging = allow;
        return old;
    }

    public boolean isPurgingAllowed() { return allowPurging; }

    public int length() { return data.length; }

    public void close() { closed = true; }

    private void beginAccess() throws IOException {
        if (closed) throw new IOException("MemoryFile has been deactivated");
        if (allowPurging && purged) {
            purged = false;
            Arrays.fill(data, (byte) 0);
            throw new IOException("MemoryFile has been purged");
        }
    }

    public int readBytes(byte[] buffer, int srcOffset, int destOffset, int count) throws IOException {
        beginAccess();
        System.arraycopy(data, srcOffset, buffer, destOffset, count);
        return count;
    }

    public void writeBytes(byte[] buffer, int srcOffset, int destOffset, int count) throws IOException {
        beginAccess();
        System.arraycopy(buffer, srcOffset, data, destOffset, count);
    }

    /** Test hook (not Android API): purges every MemoryFile whose purging is allowed. */
    public static void purgeAll() {
        for (MemoryFile f : ALL) if (f.allowPurging) f.purged = true;
    }
}
