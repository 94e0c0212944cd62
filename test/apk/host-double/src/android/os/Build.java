package android.os;

/** Host double: the device's level comes from -Dfixture.sdk (default 30). */
public class Build {
    public static class VERSION {
        public static int SDK_INT = Integer.getInteger("fixture.sdk", 30);
        public static String RELEASE = System.getProperty("fixture.release", "11");
    }
}
