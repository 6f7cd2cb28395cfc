package dev.vane.core.tokenize;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter.InterpreterScopeClosable;
import com.hubspot.jinjava.lib.tag.ElseTag;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.objects.SafeString;
import com.hubspot.jinjava.objects.collections.PyList;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.parse.TagToken;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.LengthLimitingStringBuilder;
import com.hubspot.jinjava.util.ObjectIterator;
import com.hubspot.jinjava.util.ObjectTruthValue;
import org.apache.commons.lang3.tuple.Pair;

import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;

/**
 * jinjava's {@code for} tag plus what Jinja2's has and jinjava's lacks: the loop filter,
 * {@code {% for m in messages if m.role != 'system' %}} (jinjava evaluates {@code messages if ...} as one
 * expression and silently renders nothing), {@code {% else %}} for a loop that ran zero times, and iterating
 * over the characters of a string.
 *
 * <p>As in Jinja2, the condition is evaluated for each item with the loop variables bound, and the loop then runs
 * over the items that passed, so {@code loop.index}, {@code loop.first}, {@code loop.last} and {@code loop.length}
 * count the filtered sequence (not the skipped items). Filtering happens before the body runs, again as in
 * Jinja2, where the filter is part of the iterable.
 *
 * <pre>{@code
 * {% for x in [1, 2, 3, 4] if x is even %}{{ loop.index }}:{{ x }}{% if not loop.last %},{% endif %}{% endfor %}
 * -> 1:2,2:4
 * }</pre>
 */
final class LoopFilterForTag extends ForTag {
    @Override
    @SuppressWarnings("try") // the scope only needs closing
    public String interpretUnchecked(TagNode tagNode, JinjavaInterpreter interpreter) {
        Pair<List<String>, String> varsAndExpression = getLoopVarsAndExpression((TagToken) tagNode.getMaster());
        List<String> vars = varsAndExpression.getLeft();
        String expression = varsAndExpression.getRight();
        int filter = filterKeyword(expression);
        String iterable = filter < 0 ? expression : expression.substring(0, filter).trim();
        Object collection = characters(interpreter.resolveELExpression(iterable, tagNode.getLineNumber()));
        ForLoop items = ObjectIterator.getLoop(collection);
        // Loops with an empty body render no nodes, so they are charged per iteration up front.
        RenderBudget.charge(Math.max(0, items.getLength()));

        Object loopOver = collection;
        if (filter >= 0) {
            String condition = expression.substring(filter + 2).trim();
            List<Object> kept = new ArrayList<>();
            try (InterpreterScopeClosable scope = interpreter.enterScope()) {
                while (items.hasNext()) {
                    Object item = items.next();
                    bind(interpreter, vars, interpreter.wrap(item));
                    Object passes = interpreter.resolveELExpression(condition, tagNode.getLineNumber());
                    if (ObjectTruthValue.evaluate(passes)) kept.add(item);
                }
            }
            loopOver = kept;
        }

        int elseAt = elseBranch(tagNode);
        if (elseAt < 0) return renderForCollection(tagNode, interpreter, vars, loopOver);
        LinkedList<Node> children = tagNode.getChildren();
        if (ObjectIterator.getLoop(loopOver).hasNext()) {
            TagNode body = new TagNode(this, (TagToken) tagNode.getMaster(), tagNode.getSymbols());
            body.setChildren(new LinkedList<>(children.subList(0, elseAt)));
            body.setParent(tagNode.getParent());
            return renderForCollection(body, interpreter, vars, loopOver);
        }
        LengthLimitingStringBuilder out = new LengthLimitingStringBuilder(interpreter.getConfig().getMaxOutputSize());
        for (Node node : children.subList(elseAt + 1, children.size())) out.append(node.render(interpreter));
        return out.toString();
    }

    /**
     * The position of a {@code {% else %}} among the loop's own children, or -1. Jinja2 renders what follows it
     * when the loop ran zero times; jinjava would render it on every iteration.
     */
    private static int elseBranch(TagNode tagNode) {
        List<Node> children = tagNode.getChildren();
        for (int i = 0; i < children.size(); i++) {
            if (children.get(i) instanceof TagNode t && t.getTag() instanceof ElseTag) return i;
        }
        return -1;
    }

    /** A string iterates over its characters in Python; jinjava would run the loop once with the whole string. */
    private static Object characters(Object collection) {
        if (!(collection instanceof String || collection instanceof SafeString)) return collection;
        return collection.toString().codePoints().mapToObj(Character::toString).toList();
    }

    /** Binds the loop variables to one item as ForTag does: one name, or unpacking a (key, value) pair or a list. */
    private static void bind(JinjavaInterpreter interpreter, List<String> vars, Object item) {
        if (vars.size() == 1) {
            interpreter.getContext().put(vars.getFirst(), item);
            return;
        }
        List<?> parts = item instanceof Map.Entry<?, ?> e ? java.util.Arrays.asList(e.getKey(), e.getValue())
                : item instanceof PyList list ? list.toList()
                : item instanceof List<?> list ? list
                : List.of();
        for (int i = 0; i < vars.size(); i++) {
            interpreter.getContext().put(vars.get(i), i < parts.size() ? parts.get(i) : null);
        }
    }

    /**
     * Where the loop filter's {@code if} starts in {@code items if condition}, or -1: the first {@code if} outside
     * quotes and brackets. The iterable of a Jinja2 for loop cannot contain a bare conditional expression
     * ({@code a if b else c} needs parentheses there), so the first such {@code if} is the filter.
     */
    static int filterKeyword(String expression) {
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < expression.length(); i++) {
            char c = expression.charAt(i);
            if (quote != 0) {
                if (c == '\\') i++;
                else if (c == quote) quote = 0;
                continue;
            }
            switch (c) {
                case '\'', '"' -> quote = c;
                case '(', '[', '{' -> depth++;
                case ')', ']', '}' -> depth--;
                default -> {
                    if (depth == 0 && expression.startsWith("if", i)
                            && (i == 0 || !isNamePart(expression.charAt(i - 1)))
                            && (i + 2 == expression.length() || !isNamePart(expression.charAt(i + 2)))) {
                        return i;
                    }
                }
            }
        }
        return -1;
    }

    private static boolean isNamePart(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
