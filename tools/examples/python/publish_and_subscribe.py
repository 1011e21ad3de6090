#!/usr/bin/env python3
"""Publishes one event to coopstream and receives it back on a live subscription.

The smallest complete coopstream client: it opens a subscription on the stream service
(coop.v1.Subscriptions), publishes a coop.v1.TradeUpdate to the publisher service
(coop.v1.Publisher), prints the publisher's acknowledgement, waits until that very event (by id)
arrives on the subscription, prints it and exits 0. Any gRPC error, or no event within --timeout
seconds, prints the status and exits 1.

Prepare the venv and the stubs once, then run it against `tools/run`:

    tools/examples/python/setup
    PYTHONPATH=build/python-stubs build/python-venv/bin/python \\
        tools/examples/python/publish_and_subscribe.py

README.md (next to this file) shows TLS and API keys.
"""

import argparse
import datetime
import secrets
import sys
import time

import grpc

try:
    # Generated from proto/coop/v1 by tools/examples/python/setup (python -m grpc_tools.protoc).
    from coop.v1 import envelope_pb2
    from coop.v1 import errors_pb2
    from coop.v1 import events_pb2
    from coop.v1 import publisher_pb2
    from coop.v1 import publisher_pb2_grpc
    from coop.v1 import subscriptions_pb2
    from coop.v1 import subscriptions_pb2_grpc
    from coop.v1 import types_pb2
except ImportError as error:
    sys.exit(f"error: cannot import the coop.v1 stubs ({error}): run "
             "tools/examples/python/setup and put the stubs folder it prints on PYTHONPATH")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publisher", default="127.0.0.1:50051",
                        help="HOST:PORT of the publisher service (default %(default)s)")
    parser.add_argument("--stream", default="127.0.0.1:50053",
                        help="HOST:PORT of the stream service (default %(default)s)")
    token = parser.add_mutually_exclusive_group()
    token.add_argument("--token", default="",
                       help="API key, sent as 'authorization: Bearer <key>' (prefer --token_file: "
                            "command lines are visible to other users)")
    token.add_argument("--token_file", default="",
                       help="file holding the API key (surrounding blanks trimmed)")
    parser.add_argument("--tls", action="store_true",
                        help="connect with TLS, trusting the system's CAs unless --tls_ca")
    parser.add_argument("--tls_ca", default="",
                        help="PEM of the CA that signed the servers' certificates (implies --tls)")
    parser.add_argument("--tls_cert", default="",
                        help="PEM client certificate for mutual TLS, with --tls_key "
                             "(implies --tls)")
    parser.add_argument("--tls_key", default="", help="PEM private key of --tls_cert")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for the whole exchange (default %(default)s)")
    parser.add_argument("--event_id", default="",
                        help="id of the event to publish (default: a new unique one)")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls_cert and --tls_key go together")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def read_file(path):
    with open(path, "rb") as file:
        return file.read()


def open_channel(address, args):
    """A channel to one server: plain text (local use) or TLS, optionally with a client cert."""
    if not (args.tls or args.tls_ca or args.tls_cert):
        return grpc.insecure_channel(address)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read_file(args.tls_ca) if args.tls_ca else None,
        private_key=read_file(args.tls_key) if args.tls_key else None,
        certificate_chain=read_file(args.tls_cert) if args.tls_cert else None)
    return grpc.secure_channel(address, credentials)


def call_metadata(args):
    """The API key travels as call metadata; without one the server decides (a local server
    started by tools/run treats such calls as its anonymous principal, local-dev)."""
    token = args.token or (read_file(args.token_file).decode().strip() if args.token_file else "")
    return [("authorization", f"Bearer {token}")] if token else []


def new_event_id():
    # EventId: 1..128 characters of [A-Za-z0-9._:-], unique per source. (source, id) is the
    # idempotency key: publishing the same id again returns the original position, so a retry
    # after an unknown outcome (UNAVAILABLE, DEADLINE_EXCEEDED) must reuse the id.
    now = datetime.datetime.now(datetime.timezone.utc)
    return f"python-example-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def trade_update_event(event_id):
    """A valid coop.v1.TradeUpdate: cosmetics from Moscow Oblast in steady demand in Kazakhstan.

    The field comments of proto/coop/v1 are the validation rules. `type` names the payload that
    is set, `subject` is the one the payload's rule gives ("regions/{a}:{b}", the two codes in
    ascending byte order), and the server sets `source` and `recorded_time` itself.
    """
    return envelope_pb2.Event(
        id=event_id,
        type="coop.v1.TradeUpdate",
        subject="regions/KZ:RU-MOS",
        schema_version=1,
        trade_update=events_pb2.TradeUpdate(
            reporting_region=types_pb2.RegionRef(code="RU-MOS"),
            partner_region=types_pb2.RegionRef(code="KZ"),
            period=types_pb2.Period(start=types_pb2.PartialDate(year=2025)),
            direction=events_pb2.TRADE_DIRECTION_EXPORT,
            category=events_pb2.TradeCategory(name="косметика", hs_code="33"),
            trend=events_pb2.TRADE_TREND_STEADY,
            note="Published by the Python client example (tools/examples/python)."))


def describe_error(what, error):
    """One line with the status code and message, plus every field violation of an
    INVALID_ARGUMENT: the servers put a google.rpc.Status (coop.v1.ErrorStatus is its
    wire-compatible twin) into the grpc-status-details-bin trailer."""
    lines = [f"error: {what} failed: {error.code().name}: {error.details()}"]
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for detail in errors_pb2.ErrorStatus.FromString(value).details:
            if detail.type_url.endswith("/google.rpc.BadRequest"):
                for violation in errors_pb2.BadRequest.FromString(detail.value).field_violations:
                    lines.append(f"  {violation.field}: {violation.description}")
    return "\n".join(lines)


def main():
    args = parse_args()
    metadata = call_metadata(args)
    deadline = time.monotonic() + args.timeout
    event = trade_update_event(args.event_id or new_event_id())

    with open_channel(args.publisher, args) as publisher_channel, \
            open_channel(args.stream, args) as stream_channel:
        publisher = publisher_pb2_grpc.PublisherStub(publisher_channel)
        subscriptions = subscriptions_pb2_grpc.SubscriptionsStub(stream_channel)

        # Subscribe before publishing, from the end of the log (LOG_EDGE_LATEST), to the events
        # this example publishes. The filter must stay inside the caller's subscribe scope
        # (common/auth/README.md): naming a region keeps it within the scope of a principal that
        # may read only some regions, such as mosreg-government.
        request = subscriptions_pb2.SubscribeRequest(
            edge=subscriptions_pb2.LOG_EDGE_LATEST,
            filter=subscriptions_pb2.EventFilter(
                types=[event.type], subjects=[event.subject],
                regions=[types_pb2.RegionRef(code="RU-MOS")]))
        # The deadline covers the whole stream: if the event never comes, the iteration below
        # ends with DEADLINE_EXCEEDED instead of waiting forever.
        stream = subscriptions.Subscribe(request, metadata=metadata, timeout=args.timeout)
        step = "Subscribe"
        try:
            # Sending the request does not mean the server has fixed where the subscription
            # starts. With LOG_EDGE_LATEST its first message is CaughtUp, sent once it has: any
            # event published after that lies past the start and is delivered. (Publishing
            # first and subscribing from the ack's position token would not do: a cursor
            # resumes just past the event it names.)
            for response in stream:
                if response.WhichOneof("message") == "caught_up":
                    break
            else:
                print("error: the subscription ended before it caught up", file=sys.stderr)
                return 1

            step = "Publish"
            ack = publisher.Publish(publisher_pb2.PublishRequest(event=event), metadata=metadata,
                                    timeout=max(deadline - time.monotonic(), 0.001)).ack
            # The ack comes once Kafka has stored the event: where it lies (partition, offset),
            # when it was recorded, and whether this id had been recorded before.
            print(f"published id={ack.event_id} partition={ack.position.partition} "
                  f"offset={ack.position.offset} recorded_time={ack.recorded_time.ToJsonString()} "
                  f"duplicate={str(ack.duplicate).lower()}", flush=True)
            if ack.duplicate:
                # Nothing was written this time, so a subscription that started after the first
                # write has nothing to receive.
                print(f"error: event {event.id} had already been recorded; publish a new id to "
                      "see it arrive", file=sys.stderr)
                return 1

            step = f"Subscribe (waiting for event {event.id})"
            for response in stream:
                # One event per message (the request leaves max_events_per_message at 0);
                # heartbeats come when the stream has been silent for 30 s.
                if response.WhichOneof("message") != "event":
                    continue
                received, position = response.event.event, response.event.position
                if received.id != event.id:
                    continue  # Someone else's TradeUpdate about the same regions.
                print(f"received  id={received.id} partition={position.partition} "
                      f"offset={position.offset} source={received.source} "
                      f"type={received.type} subject={received.subject}", flush=True)
                return 0
            print("error: the subscription ended before the event arrived", file=sys.stderr)
            return 1
        except grpc.RpcError as error:
            print(describe_error(step, error), file=sys.stderr)
            return 1
        finally:
            stream.cancel()  # Ends the subscription; a no-op once the call has ended.


if __name__ == "__main__":
    sys.exit(main())
