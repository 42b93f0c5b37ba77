"""Timetables (课后服务安排表): a school's after-school sessions for a term, its ordered
items included, checked against §1(1), filed with the bureau and published."""
