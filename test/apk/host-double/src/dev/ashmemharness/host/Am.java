package dev.ashmemharness.host;

import android.app.Instrumentation;
import android.os.Bundle;

/**
 * `am instrument -w -r -e script B64 COMPONENT` on a JVM: args are the instrumentation class and
 * the base64 script ("-" for none).
 */
public final class Am {
    public static void main(String[] args) throws Exception {
        Instrumentation inst = (Instrumentation) Class.forName(args[0]).getDeclaredConstructor().newInstance();
        Bundle arguments = new Bundle();
        if (!args[1].equals("-")) arguments.putString("script", args[1]);
        inst.onCreate(arguments);
        inst.await();
    }
}
