package android.widget;

/** Host double: a text holder. */
public class TextView extends android.view.View {
    private CharSequence text = "";
    public CharSequence getText() { return text; }
    public final void setText(CharSequence t) { text = t; }
}
