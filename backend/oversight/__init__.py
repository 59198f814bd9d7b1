"""What the funds watch: the audit log, the joint-audit rules and cases (联审互查), and the
cross-region clearing report with its refusals (清算). No Flask."""
