package android.content;

import java.io.File;

/** Host double: files live under -Dfixture.files. */
public class Context {
    public File getFilesDir() {
        File dir = new File(System.getProperty("fixture.files", System.getProperty("java.io.tmpdir")));
        dir.mkdirs();
        return dir;
    }
}
