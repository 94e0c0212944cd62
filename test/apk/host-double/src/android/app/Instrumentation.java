package android.app;

import android.content.Context;
import android.os.Bundle;
import java.util.Map;

/**
 * Host double of android.app.Instrumentation that prints what `am instrument -w -r` prints for
 * status and result bundles (keys sorted), so the fixture's instrumentation door runs on a JVM.
 */
public class Instrumentation {
    private Thread thread;
    private final Object lock = new Object();

    public void onCreate(Bundle arguments) { }

    public void start() {
        thread = new Thread(this::onStart);
        thread.start();
    }

    public void onStart() { }

    public Context getTargetContext() { return new Context(); }

    public void sendStatus(int resultCode, Bundle results) {
        synchronized (lock) {
            for (Map.Entry<String, String> e : results.entries().entrySet()) {
                System.out.println("INSTRUMENTATION_STATUS: " + e.getKey() + "=" + e.getValue());
            }
            System.out.println("INSTRUMENTATION_STATUS_CODE: " + resultCode);
            System.out.flush();
        }
    }

    public void finish(int resultCode, Bundle results) {
        synchronized (lock) {
            for (Map.Entry<String, String> e : results.entries().entrySet()) {
                System.out.println("INSTRUMENTATION_RESULT: " + e.getKey() + "=" + e.getValue());
            }
            System.out.println("INSTRUMENTATION_CODE: " + resultCode);
            System.out.flush();
        }
    }

    /** Waits for the instrumentation thread (the `-w` of am). */
    public void await() throws InterruptedException { thread.join(); }
}
