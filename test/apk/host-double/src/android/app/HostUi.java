package android.app;

import android.view.View;
import android.widget.TextView;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/**
 * The Activity door on a JVM: creates the Activity (args[0] is its class), then for each script
 * file types it into id/script, "presses" Run (onRun) and prints id/status and id/results,
 * each run ending with a line "---". "--purge" between files purges (the host double's hook).
 */
public final class HostUi {
    public static void main(String[] args) throws Exception {
        Activity a = (Activity) Class.forName(args[0]).getDeclaredConstructor().newInstance();
        a.onCreate(null);
        int script = a.getResources().getIdentifier("script", "id", a.getPackageName());
        int status = a.getResources().getIdentifier("status", "id", a.getPackageName());
        int results = a.getResources().getIdentifier("results", "id", a.getPackageName());
        for (int k = 1; k < args.length; k++) {
            if (args[k].equals("--purge")) { android.os.MemoryFile.purgeAll(); continue; }
            String text = new String(Files.readAllBytes(new File(args[k]).toPath()), StandardCharsets.UTF_8);
            ((TextView) a.findViewById(script)).setText(text);
            a.getClass().getMethod("onRun", View.class).invoke(a, (View) null);
            System.out.println("STATUS " + ((TextView) a.findViewById(status)).getText());
            System.out.print(((TextView) a.findViewById(results)).getText());
            System.out.println("---");
        }
    }
}
