package dev.forwarder.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Jackson's tree nodes for the records the listener builds, made smaller: an object holds its fields in two
 * arrays in the order they were put ({@link Fields}) where Jackson's default is a {@code LinkedHashMap} (the
 * map, a 16-slot table and a 40-byte entry per field: about 240 bytes for a two-field text block), and an array
 * starts with room for two elements, not ten. The trees are Jackson's {@link ObjectNode} and {@link ArrayNode}:
 * equal to, hashed as and written as the default factory's, in the same field order; every node made from them
 * ({@code putObject}, {@code addObject}...) is made here too.
 *
 * <p>A field is found by a scan of the names, which is quicker than a hash for the few fields of these trees
 * (at most a dozen) and slow for an object of thousands: the trees the listener does not build itself (tool
 * schemas, parsed tool arguments) keep Jackson's default.
 */
final class CompactNodes extends JsonNodeFactory {

    private static final long serialVersionUID = 1L;

    static final CompactNodes INSTANCE = new CompactNodes();

    private CompactNodes() {
        super(false); // as JsonNodeFactory.instance: decimals normalised
    }

    @Override
    public ObjectNode objectNode() {
        return new ObjectNode(this, new Fields());
    }

    @Override
    public ArrayNode arrayNode() {
        return new ArrayNode(this, 2);
    }

    /** An object's fields in the order they were first put, as {@code LinkedHashMap} keeps them. */
    static final class Fields extends AbstractMap<String, JsonNode> {
        private static final int INITIAL = 4;

        private String[] names = new String[INITIAL];
        private JsonNode[] values = new JsonNode[INITIAL];
        private int size;
        /** Changes of the set of names, for the iterators. */
        private int changes;

        /** Where {@code name} is (null too, as a {@code LinkedHashMap} takes it), or -1. */
        private int indexOf(Object name) {
            for (int i = 0; i < size; i++) {
                if (Objects.equals(names[i], name)) {
                    return i;
                }
            }
            return -1;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public boolean containsKey(Object name) {
            return indexOf(name) >= 0;
        }

        @Override
        public JsonNode get(Object name) {
            int i = indexOf(name);
            return i < 0 ? null : values[i];
        }

        /** A name put again keeps its place, as in {@code LinkedHashMap}. */
        @Override
        public JsonNode put(String name, JsonNode value) {
            int i = indexOf(name);
            if (i >= 0) {
                JsonNode old = values[i];
                values[i] = value;
                return old;
            }
            if (size == names.length) {
                names = Arrays.copyOf(names, size * 2);
                values = Arrays.copyOf(values, size * 2);
            }
            names[size] = name;
            values[size] = value;
            size++;
            changes++;
            return null;
        }

        @Override
        public JsonNode remove(Object name) {
            int i = indexOf(name);
            if (i < 0) {
                return null;
            }
            JsonNode old = values[i];
            removeAt(i);
            return old;
        }

        private void removeAt(int i) {
            int after = size - i - 1;
            System.arraycopy(names, i + 1, names, i, after);
            System.arraycopy(values, i + 1, values, i, after);
            size--;
            names[size] = null;
            values[size] = null;
            changes++;
        }

        @Override
        public void clear() {
            Arrays.fill(names, 0, size, null);
            Arrays.fill(values, 0, size, null);
            size = 0;
            changes++;
        }

        @Override
        public void forEach(BiConsumer<? super String, ? super JsonNode> action) {
            int expected = changes;
            for (int i = 0; i < size; i++) {
                action.accept(names[i], values[i]);
                if (changes != expected) {
                    throw new ConcurrentModificationException();
                }
            }
        }

        @Override
        public Set<Map.Entry<String, JsonNode>> entrySet() {
            return new AbstractSet<>() {
                @Override
                public int size() {
                    return size;
                }

                @Override
                public void clear() {
                    Fields.this.clear();
                }

                @Override
                public Iterator<Map.Entry<String, JsonNode>> iterator() {
                    return new Entries();
                }
            };
        }

        /** The fields in order; {@code remove} removes the last one returned; an entry's value writes through. */
        private final class Entries implements Iterator<Map.Entry<String, JsonNode>> {
            private int next;
            private int last = -1;
            private int expected = changes;

            @Override
            public boolean hasNext() {
                return next < size;
            }

            @Override
            public Map.Entry<String, JsonNode> next() {
                if (changes != expected) {
                    throw new ConcurrentModificationException();
                }
                if (next >= size) {
                    throw new NoSuchElementException();
                }
                last = next++;
                return new Entry(last);
            }

            @Override
            public void remove() {
                if (last < 0) {
                    throw new IllegalStateException();
                }
                if (changes != expected) {
                    throw new ConcurrentModificationException();
                }
                removeAt(last);
                next = last;
                last = -1;
                expected = changes;
            }
        }

        private final class Entry implements Map.Entry<String, JsonNode> {
            private final String name;
            private final int at;

            Entry(int at) {
                this.name = names[at];
                this.at = at;
            }

            @Override
            public String getKey() {
                return name;
            }

            @Override
            public JsonNode getValue() {
                return at < size && names[at] == name ? values[at] : get(name);
            }

            @Override
            public JsonNode setValue(JsonNode value) {
                int i = at < size && names[at] == name ? at : indexOf(name);
                if (i < 0) {
                    throw new IllegalStateException("the field " + name + " was removed");
                }
                JsonNode old = values[i];
                values[i] = value;
                return old;
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Map.Entry<?, ?> e
                        && Objects.equals(name, e.getKey())
                        && Objects.equals(getValue(), e.getValue());
            }

            @Override
            public int hashCode() {
                return Objects.hashCode(name) ^ Objects.hashCode(getValue());
            }

            @Override
            public String toString() {
                return name + "=" + getValue();
            }
        }
    }
}
