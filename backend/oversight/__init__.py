"""What the funds watch: the audit log, the joint-audit rules (联审互查) and the cross-region
clearing report (清算). No Flask."""
