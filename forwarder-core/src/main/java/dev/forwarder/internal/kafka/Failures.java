package dev.forwarder.internal.kafka;

import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.InvalidRecordException;

/**
 * How the forwarder treats a failed send, after Kafka's own {@code Callback} documentation.
 *
 * <ul>
 *   <li><b>Permanent for this record</b> ({@link #isPermanent}): too large, invalid, topic invalid or not
 *       authorised. Sending it again cannot succeed: it goes to the dead-letter spool and forwarding goes on.
 *   <li><b>Retriable</b> ({@link RetriableException}: broker down, timeouts, leader changes): back off and
 *       send again from the first unacknowledged record, in order, forever. Never skipped.
 *   <li><b>Anything else</b> (fenced or failed idempotent producer, authentication, a closed producer):
 *       retried the same way, with a new producer ({@link #breaksProducer}).
 * </ul>
 */
final class Failures {

    private Failures() {
    }

    static boolean isPermanent(Throwable e) {
        return e instanceof RecordTooLargeException
                || e instanceof RecordBatchTooLargeException
                || e instanceof InvalidRecordException
                || e instanceof InvalidTopicException
                || e instanceof TopicAuthorizationException
                || e instanceof SerializationException;
    }

    static boolean breaksProducer(Throwable e) {
        return !(e instanceof RetriableException) && !isPermanent(e);
    }

    static String describe(Throwable e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
