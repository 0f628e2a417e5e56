/**
 * The spool: the write-ahead log every accepted record is appended to before {@code publish} returns, and
 * the only package that knows it is a Chronicle Queue.
 *
 * <h2>Design constraints</h2>
 *
 * <ul>
 *   <li>Appending never waits for Kafka, the disk or another process: it is a copy into a memory-mapped roll
 *       file under the spool's one appender lock (several processes may append to one spool; Chronicle's
 *       own write lock orders them).
 *   <li>Nothing accepted is lost to a crash of the process: the page cache holds what was copied. An OS
 *       crash loses what was not forced yet ({@code spool.sync}: none, interval, every_record).
 *   <li>The spool never grows past {@code spool.max_bytes} nor fills its disk: a record is refused before the
 *       append, without a system call on the request path (a mapped write on a full disk does not fail, it
 *       faults the JVM).
 *   <li>A damaged record is never forwarded: each carries a length and a CRC-32C, and is quarantined when
 *       it does not check out; a truncated roll file is passed by once later files exist.
 *   <li>Owner-only on disk (0700/0600), whatever the umask: every prompt and answer lands here.
 * </ul>
 *
 * <h2>On disk</h2>
 *
 * <pre>
 *   &lt;spool.dir&gt;/
 *     queue/*.cq4          roll files, one per roll cycle (an hour by default) or quarter of max_bytes
 *     queue/metadata.cq4t  Chronicle's table store
 *     queue/*.precreated   the next cycle's roll file, made ahead of the clock, zeros until Chronicle takes it
 *                          as its .cq4 at the cycle's first append (RollAhead)
 *     warm-up/             for a moment at open, once per JVM: a scratch queue (ChronicleWarmUp)
 *     source-id            the spool's UUID (with a record's index, the record's identity everywhere)
 *     checkpoint           two CRC'd slots: the index up to which every record is settled
 *     appended-bytes       a counter shared by every appending process (the space guard's estimate)
 *     roll-floor           the roll clock's floor, shared likewise (files roll by size too: RollClock)
 *     forwarder.lock       the OS lock of the one process that forwards the spool, holding its pid
 *     sealing-keys         the keys that ever sealed a record, each logged before its first record (SealingLog)
 *     dead-letter/         a spool of the same layout: records Kafka refused for good, each with its reason
 *     quarantine/          copies of corrupt records and why
 * </pre>
 *
 * <h2>Parts</h2>
 *
 * <ul>
 *   <li>{@link dev.forwarder.internal.spool.Spool}: appends (one appender per process, taken in turn), the
 *       cycle mark, and moving appends on after a restart of the machine;
 *       {@link dev.forwarder.internal.spool.SpoolRecord} is the record layout (and
 *       {@link dev.forwarder.internal.spool.SpoolKeys} the sealing of payloads with {@code spool.encryption},
 *       {@code SealingLog} the keys that sealed any, so that a start need not read the backlog to learn them);
 *       {@link dev.forwarder.internal.spool.RollPeriod} the roll cycle.
 *   <li>{@link dev.forwarder.internal.spool.SpoolIdentity}: the small files that keep record identities
 *       unique (source id, home and copied-from, boot id); {@link dev.forwarder.internal.spool.SpoolQuery}:
 *       read-only questions about the records (backlog, oldest, sealing keys, a scan), for tools and the
 *       status; {@code SpoolDisk}: what the files take on the disk, and forcing the newest.
 *   <li>{@link dev.forwarder.internal.spool.SpoolReader}: the forwarder's reader, in index order; it
 *       quarantines corrupt records and moves past truncated roll files, so the forwarder never sees them.
 *   <li>{@link dev.forwarder.internal.spool.SpaceGuard}: the bound, measured every 100 ms by a thread of its
 *       own and checked in nanoseconds on the request path ({@code SharedCounter} adds the other processes'
 *       appends); with {@code spool.sync = interval} the same thread forces the newest roll files.
 *   <li>{@code RollClock}: Chronicle's time provider, which jumps to the next cycle once the file being written
 *       holds a quarter of {@code max_bytes}, so that forwarded bytes are deleted a file at a time whatever
 *       the rate: the bound is for an outage's backlog, never for throughput.
 *   <li>{@code Pretoucher}: faults the roll file's pages in ahead of the appender, off the request path.
 *   <li>{@link dev.forwarder.internal.spool.Checkpoint}: the forwarder's progress, torn-write safe.
 *   <li>{@link dev.forwarder.internal.spool.RollFiles}: every deletion of a roll file (retention behind the
 *       checkpoint, and drop_oldest).
 *   <li>{@link dev.forwarder.internal.spool.SpoolLock}: one forwarder per spool.
 *   <li>{@link dev.forwarder.internal.spool.OpenSpool}: all of the above opened in order for one process,
 *       closed in the reverse.
 * </ul>
 *
 * <h2>Invariants</h2>
 *
 * <ul>
 *   <li>(source id, index) names one record: indexes grow within a spool, and whenever they could be
 *       handed out again (the checkpoint, or Kafka's committed position, ahead of the spool's last record) the
 *       spool takes a new source id first.
 *   <li>A roll file is deleted by retention only when the forced checkpoint lies in a later cycle (every
 *       record of it settled); drop_oldest may delete an unforwarded one, and those records are counted lost.
 *   <li>With {@code spool.sync} other than none, the spool's data is forced before the checkpoint, so that
 *       after an OS crash the checkpoint on disk never covers records that did not reach the disk.
 * </ul>
 */
package dev.forwarder.internal.spool;
