package dev.forwarder.internal.config;

import java.util.Comparator;
import java.util.Set;

/** For an unknown key: the known key it was most likely meant to be, by edit distance. */
final class KeySuggestions {

    private KeySuggestions() {}

    /** The known key closest to {@code key}, if it is close enough to be a typo; else null. */
    static String nearest(String key, Set<String> known) {
        return known.stream()
                .min(Comparator.comparingInt((String k) -> editDistance(key, k)).thenComparing(k -> k))
                .filter(k -> editDistance(key, k) <= Math.max(2, k.length() / 3))
                .orElse(null);
    }

    /** Levenshtein distance: insertions, deletions and substitutions of one character each cost 1. */
    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
