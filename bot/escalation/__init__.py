"""The escalation flow, one step a module, in the order a report travels:

- `report`: what the form collects, validated, and what a report is about;
- `desks`: where a council's alerts go for each route, and who may act on them;
- `model`: a case, its events, the notices about it and their deliveries, as read back;
- `tables`: how cases, events and the outbox are stored;
- `service`: what every step shares, and queueing a change's notices in its transaction;
- `cases`: opening a case and the team's actions on it (`Cases`: the service with every step);
- `wording`: what the team, the reporter and a timeline's reader are told of each event;
- `outbox`: the queued notices, claimed under a lease and recorded (why a claim is an attempt,
  and which de-duplication guards what);
- `delivery`: the worker that drains the outbox to Slack, Teams and email, through outages;
- `fallover`: an alert its desk's channel will not take, sent to the desk's backup as well;
- `reminders`: an unacknowledged case raised again, then to the backup;
- `retention`: legal holds, and deleting what is past each council's retention;
- `access`: everything the cases hold about one person.
"""
