package android.view;

/** Host double. */
public class View { }
