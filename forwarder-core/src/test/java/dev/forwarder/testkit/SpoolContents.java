package dev.forwarder.testkit;

import dev.forwarder.internal.spool.Spool;
import dev.forwarder.internal.spool.SpoolQuery;
import dev.forwarder.internal.spool.SpoolRecord;
import java.util.ArrayList;
import java.util.List;

/** Every record of a spool, in order; a corrupt one fails the test that reads it. */
public final class SpoolContents {

    private SpoolContents() {}

    public static List<SpoolRecord.Entry> of(Spool spool) {
        List<SpoolRecord.Entry> entries = new ArrayList<>();
        spool.query().scan(new SpoolQuery.Visitor() {
            @Override
            public boolean record(SpoolRecord.Entry entry) {
                return entries.add(entry);
            }

            @Override
            public void corrupt(long index, String reason) {
                throw new AssertionError("corrupt record " + index + " in " + spool.dir() + ": " + reason);
            }
        });
        return entries;
    }
}
