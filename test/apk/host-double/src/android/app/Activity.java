package android.app;

import android.content.Context;
import android.content.res.Resources;
import android.os.Bundle;
import android.view.View;
import android.widget.TextView;
import java.util.HashMap;
import java.util.Map;

/** Host double: setContentView(layout/main) makes the layout's text views, found by id. */
public class Activity extends Context {
    private final Resources resources = new Resources();
    private final Map<Integer, View> views = new HashMap<>();

    protected void onCreate(Bundle savedInstanceState) { }

    public Resources getResources() { return resources; }

    public String getPackageName() { return "dev.ashmemharness.fixture"; }

    public void setContentView(int layoutResID) {
        if (layoutResID != resources.getIdentifier("main", "layout", getPackageName())) {
            throw new IllegalArgumentException("no layout " + layoutResID);
        }
        for (String name : new String[] { "script", "run", "status", "results" }) {
            views.put(resources.getIdentifier(name, "id", getPackageName()), new TextView());
        }
    }

    public View findViewById(int id) { return views.get(id); }
}
