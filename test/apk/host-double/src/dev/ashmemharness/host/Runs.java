package dev.ashmemharness.host;

import android.os.MemoryFile;
import dev.ashmemharness.fixture.Runner;
import dev.ashmemharness.fixture.Sink;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * The Activity door's semantics on a JVM: several scripts (files) run on ONE Runner, so handles
 * outlive a run; the argument "--purge" between two files purges every purgeable MemoryFile
 * (the host double's hook), like a purge from outside between two presses of Run.
 */
public final class Runs {
    public static void main(String[] args) throws Exception {
        Runner runner = new Runner(new File(System.getProperty("java.io.tmpdir")), "activity");
        Sink sink = line -> System.out.println(line);
        for (String arg : args) {
            if (arg.equals("--purge")) { MemoryFile.purgeAll(); continue; }
            runner.run(new String(Files.readAllBytes(new File(arg).toPath()), StandardCharsets.UTF_8), sink);
        }
    }
}
