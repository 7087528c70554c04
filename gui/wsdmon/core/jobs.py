"""The reducer that folds observations into jobs (JobTable); the values it makes (JobKey,
Observation, JobRecord…) are core/job_records.py's, re-exported here.

Two kinds share one reducer (JobKind): a DSM scan server's post-scan jobs and a WS-Scan scanner's scan
jobs, whose status arrives converted into the same fields (job_kinds.ScanJobStatus; JobId → token,
ScansCompleted → images). The rules below cite MS-BDSRR; WS-Scan's job life is the same one ("JobState
element": Creating, Pending/Held, Started, Processing, Terminating, then Aborted, Canceled or
Completed; ScansCompleted only grows), so they hold for scan jobs too.

Rules (MS-BDSRR gives every PostScanJobStatusEvent the *full* current JobStatus, §3.2.4.8, but HTTP
deliveries from one server can overtake each other, snapshots from GetActiveJobs race with events,
and the order of the last status event and the end-state event is unspecified, §3.2.4.9):

1. A duplicate (same device and MessageID) changes nothing.
2. The end-state event (PostScanJobEndStateEvent) carries the final values: it always wins, and
   nothing after it changes the job's status again.
3. Otherwise the newer observation wins, and "newer" is judged by progress, not arrival time,
   because the spec's values only move forward: a job never leaves a terminal state (Aborted,
   Canceled, Completed); ImagesReceived only grows (§2.2.3.16: "received so far"); JobState follows
   Creating → Pending → Started → Processing → Terminating → terminal (§2.2.5.12, the lifecycle in
   §3.2); a filter never leaves its terminal states. An observation that goes backwards on any of
   these is stale: it is recorded in the timeline, marked stale, and does not change the job.
   Between observations of equal progress the later arrival wins. Vendor states have no rank and
   are compared by arrival.
4. JobCreatedTime and JobCompletedTime, once known, are kept when a later observation omits them
   (snapshots from GetActiveJobs / GetJobHistory carry no times).

5. A job the server stops reporting is *lost*: a snapshot that lists it neither among the active
   jobs (GetActiveJobs) nor in the history (GetJobHistory), although it was last heard of before
   the snapshot was asked for (a server that restarted forgets its jobs and sends no end event for
   them). A lost job is no longer active; any later observation of it makes it found again.

6. A token names a job only while the job lives: devices reuse them (WS-Scan JobIds are small
   integers that restart at 1 after a reboot; vendor DSM tokens can be counters). An observation
   of a known (device, token) belongs to *another job* with the same token when
   a. both carry a JobCreatedTime and the times differ (equal times: the same job, whatever else);
   b. it is an end-state event for a job that already had its end state, with another
      JobCompletedTime;
   c. the job had ended (end state, or a terminal state) and the observation starts over:
      Creating, Pending or Started;
   d. the device restarted since the job was last heard of (another AppSequence InstanceId), or
      the job is lost or unknown (rule 7), and the observation goes backwards (rule 3's progress
      order, or another terminal state): a restarted device's history may still list the old job,
      and the old job's own values are consistent with it, so only going back tells a new job.
   c and d do not apply to a snapshot asked for before the job was last heard of: its answer may
   predate what the events said. Another job gets the next generation in JobKey, (device, token,
   n + 1), and the table routes every later observation of the token to it; the old job stays as
   it was. An observation whose JobCreatedTime is that of an older generation goes to that one
   (a late event of the previous job). Duplicates (rule 1) and stale observations of the same job
   (rule 3) are merged as before.

7. A job that was active when the monitor lost sight of its device is *unknown* from then on
   (JobRecord.unknown_since): jobs restored from the journal at start-up, and the jobs of a device
   that went offline (Bye, metadata unreachable, subscription ended). An unknown job is not active
   (it cannot be canceled, and is not counted as running); the next observation of it, or the
   device's snapshot (rule 5: listed active, in the history, or lost) settles it.

A job's timeline keeps its first observation and the latest MAX_TIMELINE - 1; the ones between are
counted in JobRecord.timeline_dropped (the journal still has every message). A server that sends
thousands of events for one job thus costs bounded memory and constant work per event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from wsdmon.protocol.dsm import TERMINAL_JOB_STATES, JobState, JobStatus

from .changes import LOST, STALE, Change, ChangeField, describe
from .device_status import CancelOutcome
from .job_kinds import JobKind, ScanJobStatus
from .job_records import (
    TERMINAL_FILTER_STATES,
    JobChange,
    JobKey,
    JobRecord,
    Observation,
    ObservationKind,
    TimelineEntry,
    filter_summary,
)

__all__ = [
    "MAX_TIMELINE",
    "JobChange",
    "JobKey",
    "JobKind",
    "JobRecord",
    "JobTable",
    "Observation",
    "ObservationKind",
    "ScanJobStatus",
    "TimelineEntry",
    "filter_summary",
]

MAX_TIMELINE = 500  # timeline entries kept per job: the first and the latest 499

# Rule 6c: the states a job starts over in (a terminal job seen again in one of these is another job).
# WS-Scan's "Held" is MS-BDSRR's Pending-Held.
_HELD = "Held"
_START_STATES = frozenset(
    {JobState.CREATING, JobState.PENDING, JobState.PENDING_HELD, _HELD, JobState.STARTED}
)

_STATE_RANK: dict[str, int] = {
    JobState.CREATING: 0,
    JobState.PENDING: 1,
    JobState.PENDING_HELD: 1,
    _HELD: 1,
    JobState.STARTED: 2,
    JobState.PROCESSING: 3,
    JobState.TERMINATING: 4,
    JobState.ABORTED: 5,
    JobState.CANCELED: 5,
    JobState.COMPLETED: 5,
}


def _is_stale(current: JobStatus, new: JobStatus) -> bool:
    if current.job_state in TERMINAL_JOB_STATES and new.job_state not in TERMINAL_JOB_STATES:
        return True
    if new.images_received < current.images_received:
        return True
    old_rank, new_rank = _STATE_RANK.get(current.job_state), _STATE_RANK.get(new.job_state)
    if old_rank is not None and new_rank is not None and new_rank < old_rank:
        return True
    old_filters = {f.dialect: f.state for f in current.filter_statuses}
    for f in new.filter_statuses:
        before = old_filters.get(f.dialect)
        if before in TERMINAL_FILTER_STATES and f.state != before:
            return True
    return False


def _goes_back(old: JobStatus, new: JobStatus) -> bool:
    """Rule 6d: `new` cannot follow `old` in one job's life (backwards, or another end)."""
    both_ended = old.job_state in TERMINAL_JOB_STATES and new.job_state in TERMINAL_JOB_STATES
    return (both_ended and old.job_state != new.job_state) or _is_stale(old, new)


def _another_job(current: JobRecord, obs: Observation) -> bool:
    """Rule 6: does `obs` describe another job that reuses `current`'s token?"""
    old, new = current.status, obs.status
    if old.job_created_time is not None and new.job_created_time is not None:
        return old.job_created_time != new.job_created_time  # 6a; equal times: the same job
    if obs.kind is ObservationKind.END_STATE_EVENT:  # 6b
        before, after = old.job_completed_time, new.job_completed_time
        return current.ended and before is not None and after is not None and before != after
    if obs.asked is not None and current.last_update >= obs.asked:
        return False  # a snapshot asked for before the job was last heard of cannot judge it
    if (current.ended or current.is_terminal) and new.job_state in _START_STATES:
        return True  # 6c
    restarted = obs.instance is not None and current.instance_id is not None
    restarted = restarted and obs.instance != current.instance_id
    if restarted or current.lost or current.unknown_since is not None:
        return _goes_back(old, new)  # 6d
    return False


@dataclass
class JobTable:
    """All jobs the monitor knows, keyed by (device, JobToken, generation); `apply` is the only
    writer of observations, `restore`, `remove`, `mark_lost` and `mark_unknown` the others."""

    jobs: dict[JobKey, JobRecord] = field(default_factory=dict)
    _seen_messages: dict[str, set[str]] = field(default_factory=dict)
    max_seen_per_device: int = 4096
    # (device, token) → the generation of its latest job: where observations of the token go.
    _latest: dict[tuple[str, str], int] = field(default_factory=dict)

    def latest(self, device: str, token: str) -> JobRecord | None:
        """The current job with this token on this device (the latest generation), if any."""
        return self.jobs.get(JobKey(device, token, self._latest.get((device, token), 0)))

    def restore(self, records: Iterable[JobRecord]) -> None:
        """Put stored jobs back (a restart on the journal), keeping the latest generation of each
        token current."""
        for record in records:
            key = record.key
            self.jobs[key] = record
            pair = (key.device, key.job_token)
            if self._latest.get(pair, -1) < key.generation:
                self._latest[pair] = key.generation

    def remove(self, keys: Iterable[JobKey]) -> None:
        """Forget jobs (retention); a token whose latest job goes routes to its newest remaining one."""
        for key in keys:
            if self.jobs.pop(key, None) is None:
                continue
            pair = (key.device, key.job_token)
            if self._latest.get(pair) != key.generation:
                continue
            older = (g for g in range(key.generation - 1, -1, -1) if JobKey(*pair, g) in self.jobs)
            generation = next(older, None)
            if generation is None:
                del self._latest[pair]
            else:
                self._latest[pair] = generation

    def _route(self, obs: Observation) -> tuple[JobKey, JobRecord | None]:
        """Rule 6: the key the observation belongs to, and that job's record (None: a new job)."""
        device, token = obs.device, obs.status.job_token
        generation = self._latest.get((device, token))
        if generation is None:  # a record put into `jobs` directly is generation 0
            key = JobKey(device, token)
            current = self.jobs.get(key)
            if current is None:
                return key, None
            self._latest[device, token] = generation = 0
        key = JobKey(device, token, generation)
        current = self.jobs.get(key)
        if current is None or not _another_job(current, obs):
            return key, current
        created = obs.status.job_created_time
        if created is not None:  # a late observation of an earlier job with this token?
            for g in range(generation - 1, -1, -1):
                older = self.jobs.get(JobKey(device, token, g))
                if older is not None and older.status.job_created_time == created:
                    return older.key, older
        return JobKey(device, token, generation + 1), None

    def apply(self, obs: Observation) -> JobChange:
        """Fold one observation in; see the module docstring for which observation wins."""
        if obs.message_id is not None:
            seen = self._seen_messages.setdefault(obs.device, set())
            if obs.message_id in seen:
                current = self.latest(obs.device, obs.status.job_token)
                if current is not None:
                    return JobChange(current, added=False, accepted=False)
            if len(seen) >= self.max_seen_per_device:
                seen.clear()  # bounded memory; a duplicate this old is also caught by rule 3
            seen.add(obs.message_id)
        key, current = self._route(obs)
        if current is None:
            record = JobRecord(
                key,
                obs.status,
                obs.arrival,
                obs.arrival,
                ended=obs.kind is ObservationKind.END_STATE_EVENT,
                psp_identifier=obs.psp_identifier,
                psp_display_name=obs.psp_display_name,
                job_originating_user_name=obs.job_originating_user_name,
                timeline=(
                    TimelineEntry(
                        obs.arrival,
                        obs.kind,
                        describe(None, obs.status),
                        False,
                        obs.message_id,
                        obs.journal_id,
                    ),
                ),
                instance_id=obs.instance,
                kind=obs.job_kind,
                job_name=obs.job_name,
            )
            self.jobs[key] = record
            pair = (key.device, key.job_token)
            if self._latest.get(pair, -1) < key.generation:
                self._latest[pair] = key.generation
            return JobChange(record, added=True, accepted=True)
        is_end = obs.kind is ObservationKind.END_STATE_EVENT
        stale = not is_end and (current.ended or _is_stale(current.status, obs.status))
        entry = TimelineEntry(
            obs.arrival,
            obs.kind,
            (STALE,) if stale else describe(current.status, obs.status),
            stale,
            obs.message_id,
            obs.journal_id,
        )
        # The records are built field by field, not with dataclasses.replace: this runs once per
        # notification, and replace() introspects the fields on every call (≈4 µs each here).
        lost = False  # heard of again: found (rule 5)
        if stale:
            status, last_update, ended = current.status, current.last_update, current.ended
            psp_identifier, psp_display_name = current.psp_identifier, current.psp_display_name
            user = current.job_originating_user_name
            lost = current.lost
            instance = current.instance_id
            job_name = current.job_name
        else:
            status = obs.status
            old = current.status
            if (status.job_created_time is None and old.job_created_time is not None) or (
                status.job_completed_time is None and old.job_completed_time is not None
            ):
                status = type(status)(  # JobStatus or ScanJobStatus: the same fields
                    status.job_token,
                    status.job_state,
                    status.job_state_reasons,
                    status.filter_statuses,
                    status.images_received,
                    status.job_created_time or old.job_created_time,
                    status.job_completed_time or old.job_completed_time,
                    status.extensions,
                )
            last_update, ended = obs.arrival, current.ended or is_end
            psp_identifier = obs.psp_identifier or current.psp_identifier
            psp_display_name = obs.psp_display_name or current.psp_display_name
            user = obs.job_originating_user_name or current.job_originating_user_name
            job_name = obs.job_name or current.job_name
            instance = current.instance_id if obs.instance is None else obs.instance
        timeline, dropped = _append(current, entry)
        # Heard of again, stale or not: the device still knows the job, so it is no longer
        # unknown (rule 7); a stale observation shows it at what it last said.
        record = JobRecord(
            key,
            status,
            current.first_seen,
            last_update,
            ended,
            psp_identifier,
            psp_display_name,
            user,
            timeline,
            dropped,
            lost,
            instance,
            None,
            current.kind,
            job_name,
        )
        self.jobs[key] = record
        return JobChange(record, added=False, accepted=not stale)

    def mark_lost(
        self,
        device: str,
        reported: Iterable[str],
        asked: datetime,
        arrival: datetime,
        kind: JobKind = JobKind.POST_SCAN,
    ) -> list[JobChange]:
        """Rule 5: a snapshot of `device` asked for at `asked` reported the JobTokens `reported`
        (active and history together); every unfinished job of that kind and device (active or
        unknown) last heard of before `asked` and not among them is lost. A reported token speaks
        for its latest job only: an earlier job with that token is not reported. Returns the changes."""
        tokens = set(reported)
        changes = []
        for key, current in list(self.jobs.items()):
            if key.device != device or current.kind is not kind or not current.is_unfinished:
                continue
            if key.job_token in tokens and self._latest.get((device, key.job_token), 0) == key.generation:
                continue
            if current.last_update >= asked:
                continue  # heard of while the snapshot was on its way: it cannot judge the job
            entry = TimelineEntry(arrival, ObservationKind.SNAPSHOT, (LOST,))
            record = self._replace(current, entry, lost=True, unknown_since=None)
            changes.append(JobChange(record, added=False, accepted=True))
        return changes

    def note_condition(
        self, device: str, change: Change, arrival: datetime, journal_id: int | None = None
    ) -> list[JobChange]:
        """A scanner raised or cleared a condition (a jam…) while scan jobs of it ran: the line goes
        on the timeline of each of its active scan jobs, changing nothing else. Returns the changes."""
        changes = []
        entry = TimelineEntry(arrival, ObservationKind.DEVICE_CONDITION, (change,), False, None, journal_id)
        for key, current in list(self.jobs.items()):
            if key.device != device or current.kind is not JobKind.SCAN or not current.is_active:
                continue
            record = self._replace(current, entry, lost=current.lost, unknown_since=current.unknown_since)
            changes.append(JobChange(record, added=False, accepted=True))
        return changes

    def mark_unknown(self, since: datetime | None, device: str | None = None) -> list[JobChange]:
        """Rule 7: every active job (of `device`, or of every device) becomes unknown since
        `since`; None takes each job's last update (a restart: how long the monitor still watched
        after it is not known). A job already unknown keeps its time. Returns the changes."""
        changes = []
        for key, current in list(self.jobs.items()):
            if (device is not None and key.device != device) or not current.is_active:
                continue
            record = self._replace(
                current, None, lost=False, unknown_since=current.last_update if since is None else since
            )
            changes.append(JobChange(record, added=False, accepted=True))
        return changes

    def note_cancel(self, key: JobKey, outcome: CancelOutcome, arrival: datetime) -> JobChange | None:
        """A cancel request wsdmon sent and its answer, on the job's timeline (the job's status is
        changed only by what the server reports afterwards). None when the job is not known."""
        current = self.jobs.get(key)
        if current is None:
            return None
        details: tuple[str, ...] = ()
        if outcome.code or outcome.reason:
            details = (outcome.code, outcome.reason)
        elif outcome.error is not None:
            details = (str(outcome.error),)
        asked = outcome.requested_at.isoformat()
        change = Change(ChangeField.CANCEL_REQUESTED, asked, outcome.result.value, details=details)
        entry = TimelineEntry(arrival, ObservationKind.CANCEL_REQUEST, (change,))
        record = self._replace(current, entry, lost=current.lost, unknown_since=current.unknown_since)
        return JobChange(record, added=False, accepted=True)

    def _replace(
        self, current: JobRecord, entry: TimelineEntry | None, *, lost: bool, unknown_since: datetime | None
    ) -> JobRecord:
        timeline, dropped = (
            (current.timeline, current.timeline_dropped) if entry is None else _append(current, entry)
        )
        record = JobRecord(
            current.key,
            current.status,
            current.first_seen,
            current.last_update,
            current.ended,
            current.psp_identifier,
            current.psp_display_name,
            current.job_originating_user_name,
            timeline,
            dropped,
            lost,
            current.instance_id,
            unknown_since,
            current.kind,
            current.job_name,
        )
        self.jobs[current.key] = record
        return record


def _append(current: JobRecord, entry: TimelineEntry) -> tuple[tuple[TimelineEntry, ...], int]:
    """The record's timeline with `entry` appended, and its new dropped count (MAX_TIMELINE)."""
    timeline, dropped = current.timeline, current.timeline_dropped
    if len(timeline) < MAX_TIMELINE:
        return (*timeline, entry), dropped
    # Keep the first observation; the oldest of the rest makes room.
    excess = len(timeline) - MAX_TIMELINE + 1
    return (timeline[0], *timeline[1 + excess :], entry), dropped + excess
