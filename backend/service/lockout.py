"""Account lockout: after ``threshold`` failed logins for one login name within ``seconds``, that
name is refused for ``seconds`` whatever password comes next.

The counter lives in Redis (shared by every worker) under a hash of the lower-cased login, so a
login that does not exist locks exactly like one that does: the answers never tell them apart."""
import hashlib


class Lockout:
    def __init__(self, store, *, threshold, seconds):
        self.store = store
        self.threshold = threshold
        self.seconds = seconds

    @staticmethod
    def _key(login):
        return "lockout:login:" + hashlib.sha256(login.strip().lower().encode()).hexdigest()

    def retry_after(self, login):
        """Seconds until ``login`` may try again, or 0 when it is not locked."""
        failures = self.store.get(self._key(login))
        if failures is None or int(failures) < self.threshold:
            return 0
        return max(1, self.store.ttl(self._key(login)))

    def failed(self, login):
        """Count a failed login; return the seconds it is now locked for (0 when not yet)."""
        key = self._key(login)
        pipe = self.store.pipeline()
        pipe.incr(key)
        pipe.ttl(key)
        failures, ttl = pipe.execute()
        if failures >= self.threshold:
            self.store.expire(key, self.seconds)  # the lock runs from the last counted failure
            return self.seconds
        if ttl < 0:
            self.store.expire(key, self.seconds)  # the window starts at the first failure
        return 0

    def succeeded(self, login):
        self.store.delete(self._key(login))
