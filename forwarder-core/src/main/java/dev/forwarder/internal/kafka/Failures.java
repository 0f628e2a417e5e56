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
         * spool and forwarding goes on.
         */
        RECORD,
        /**
         * The topic: not authorised to write it, or its name is refused. Nothing is wrong with the record: stall
         * with back-off, say so, and deliver everything once the ACL or the topic is fixed.
         */
        TOPIC,
        /** Broker down, time-outs, leader changes: back off and send again, in order, with the same producer. */
        RETRIABLE,
        /** A failed idempotent producer, authentication, a closed producer: retried with a new one. */
        PRODUCER,
        /**
         * Another producer started with this one's transactional id, or bumped its epoch. With transactions
         * ({@code delivery = exactly_once}) that means a second forwarder on a copy of this spool: forwarding
         * stops for good. Without, it is a {@link #PRODUCER} failure (a new producer takes over).
         */
        FENCED
    }

    private Failures() {}

    public static Kind classify(Throwable e) {
        if (e instanceof RecordTooLargeException
                || e instanceof RecordBatchTooLargeException
                || e instanceof InvalidRecordException
                || e instanceof SerializationException) {
            return Kind.RECORD;
        }
        if (e instanceof TopicAuthorizationException || e instanceof InvalidTopicException) {
            return Kind.TOPIC;
        }
        if (e instanceof ProducerFencedException || e instanceof InvalidProducerEpochException) {
            return Kind.FENCED;
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
            if (classify(e) == Kind.FENCED) {
                return e;
            }
        }
        return null;
    }

    public static String describe(Throwable e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
