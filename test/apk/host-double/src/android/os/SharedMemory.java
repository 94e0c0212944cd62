package android.os;

import java.nio.ByteBuffer;

/** Host double of android.os.SharedMemory (argument checks of API 27+); not a model of Android. */
public final class SharedMemory implements java.io.Closeable {
    private final ByteBuffer region;
    private int prot = 7;
    private boolean closed;

    private SharedMemory(int size) { region = ByteBuffer.allocateDirect(size); }

    public static SharedMemory create(String name, int size) {
        if (size <= 0) throw new IllegalArgumentException("Size must be greater than zero");
        return new SharedMemory(size);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("SharedMemory is closed");
    }

    public int getSize() { checkOpen(); return region.capacity(); }

    public boolean setProtect(int newProt) {
        checkOpen();
        if ((newProt & ~7) != 0) throw new IllegalArgumentException("Invalid prot value");
        if ((newProt & ~prot) != 0) return false;
        prot = newProt;
        return true;
    }

    public ByteBuffer map(int p, int offset, int length) {
        checkOpen();
        if (offset < 0) throw new IllegalArgumentException("Offset must be >= 0");
        if (length <= 0) throw new IllegalArgumentException("Length must be > 0");
        if (offset + length > region.capacity()) throw new IllegalArgumentException("offset + length must not exceed getSize()");
        ByteBuffer view = region.duplicate();
        view.position(offset);
        view.limit(offset + length);
        ByteBuffer slice = view.slice();
        return (p & 2) != 0 ? slice : slice.asReadOnlyBuffer();
    }

    public ByteBuffer mapReadWrite() { return map(3, 0, getSize()); }

    public ByteBuffer mapReadOnly() { return map(1, 0, getSize()); }

    public static void unmap(ByteBuffer buffer) { }

    @Override public void close() { closed = true; }
}
