package dev.forwarder.internal.kafka;

import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionAbortableException;

/**
 * How the forwarder treats a failed send, after Kafka's own {@code Callback} documentation. Only the
 * record's own faults are ever a reason to give a record up; everything about the topic, the cluster or
 * the producer is waited out.
 */
public final class Failures {

    /** What a failure is about, and so what the forwarder does with it. */
    public enum Kind {
        /**
         * The record itself: too large, invalid. Sending it again cannot succeed: it goes to the dead-letter
         * spool and forwarding goes on. Only a failure reported as such, never as the cause of another
         * exception: the producer wraps one record's fault into the failures of the records sent after it
         * ("at least one previous transactional or idempotent request has failed"), and those records are not
         * at fault.
         */
        RECORD,
        /**
         * The topic: not authorised to write it, its name refused, or a batch larger than its
         * {@code segment.bytes} ({@code RecordBatchTooLargeException}: the producer does not split such a
         * batch, and every record of it is refused, none for a fault of its own). Nothing is wrong with the
         * record: stall with back-off, say so, and deliver everything once the ACL or the topic is fixed.
         */
        TOPIC,
        /** Broker down, time-outs, leader changes: back off and send again, in order, with the same producer. */
        RETRIABLE,
        /** A failed idempotent producer, authentication, a closed producer: retried with a new one. */
        PRODUCER,
        /**
         * Another producer started with this one's transactional id ({@code ProducerFencedException}). With
         * transactions ({@code delivery = exactly_once}) that means a second forwarder on a copy of this spool:
         * forwarding stops for good. Not to be confused with a transaction the coordinator aborted because it
         * was open longer than {@code transaction.timeout.ms} ({@code InvalidProducerEpochException},
         * {@code TransactionAbortableException}): that one is {@link #RETRIABLE}, the records are sent again.
         * A send in a transaction learns of fencing as {@code InvalidProducerEpochException} too: the
         * exactly-once delivery tells the two apart by the transaction's age ({@link #epochBumped}).
         */
        FENCED
    }

    private Failures() {}

    /**
     * What {@code error} is about: the record's own fault if it says so itself; otherwise the first of it and
     * its causes that names the topic, fencing or a retriable condition (a {@code KafkaException} from a
     * commit or a send wraps them); a producer failure if none does.
     */
    public static Kind classify(Throwable error) {
        if (isRecordFault(error)) {
            return Kind.RECORD;
        }
        for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
            Kind kind = classifyOne(e);
            if (kind != Kind.PRODUCER && kind != Kind.RECORD) {
                return kind;
            }
        }
        return Kind.PRODUCER;
    }

    private static boolean isRecordFault(Throwable e) {
        return e instanceof RecordTooLargeException
                || e instanceof InvalidRecordException
                || e instanceof SerializationException;
    }

    private static Kind classifyOne(Throwable e) {
        if (isRecordFault(e)) {
            return Kind.RECORD;
        }
        if (e instanceof TopicAuthorizationException
                || e instanceof InvalidTopicException
                || e instanceof RecordBatchTooLargeException) {
            return Kind.TOPIC;
        }
        if (e instanceof ProducerFencedException) {
            return Kind.FENCED;
        }
        if (e instanceof InvalidProducerEpochException || e instanceof TransactionAbortableException) {
            return Kind.RETRIABLE; // the coordinator aborted the transaction (timed out): a new one goes on
        }
        if (e instanceof RetriableException) {
            return Kind.RETRIABLE;
        }
        return Kind.PRODUCER;
    }

    /**
     * The fencing exception in {@code error} or its causes ({@code commitTransaction} wraps it in a
     * {@code KafkaException}), or null if Kafka did not fence the producer.
     */
    public static Throwable fencing(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (classifyOne(e) == Kind.FENCED) {
                return e;
            }
        }
        return null;
    }

    /**
     * The {@code InvalidProducerEpochException} in {@code error} or its causes, or null: the producer's epoch
     * was bumped, by the coordinator's time-out or by another producer with its transactional id (a send in
     * a transaction is told so with this exception, not with {@code ProducerFencedException}).
     */
    public static Throwable epochBumped(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (e instanceof InvalidProducerEpochException) {
                return e;
            }
        }
        return null;
    }

    /**
     * Whether the transaction coordinator aborted the producer's transaction itself: it was open longer than
     * {@code transaction.timeout.ms} (the producer's epoch was bumped), in {@code error} or its causes.
     */
    public static boolean transactionTimedOut(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (e instanceof InvalidProducerEpochException || e instanceof TransactionAbortableException) {
                return true;
            }
        }
        return false;
    }

    /**
     * The exception's class and message, and its innermost cause's when it has one (a wrapper's message
     * seldom says what went wrong).
     */
    public static String describe(Throwable e) {
        String described = e.getClass().getSimpleName() + ": " + e.getMessage();
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != e) {
            described += " (caused by " + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
        }
        if (root instanceof RecordBatchTooLargeException) {
            described += "; a batch is larger than the topic's segment.bytes: raise segment.bytes to at least the"
                    + " producer's batch.size";
        }
        return described;
    }
}
