"""The escalation flow, one step a module, in the order a report travels:

- `report`: what the form collects, validated, and what a report is about;
- `desks`: where a council's alerts go for each route, and who may act on them;
- `model`: a case, its events, the notices about it and their deliveries, as read back;
- `tables`: how cases, events and the outbox are stored;
- `cases`: the service that opens cases, acts on them, reminds, purges and queues notices;
- `outbox`: the queued notices, claimed under a lease and recorded (why a claim is an attempt,
  and which de-duplication guards what);
- `delivery`: the worker that drains the outbox to Slack, Teams and email;
- `retention`: deleting what is past each council's retention.
"""
