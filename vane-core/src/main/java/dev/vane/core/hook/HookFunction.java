package dev.vane.core.hook;

/**
 * Code run at a hook point during a forward call: it may read the value (into a cache) or edit it in place.
 *
 * <pre>{@code
 * HookFunction print = value -> System.out.println(value.point() + " seen");
 * Hooks hooks = new Hooks().custom("blocks.0.hook_resid_post", print);
 * }</pre>
 */
@FunctionalInterface
public interface HookFunction {
    void apply(HookTensor value);
}
