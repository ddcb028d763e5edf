"""`maildesk demo`: run.py the demo's desk and servers, story.py its steps, scene.py what
they act on, report.py the last step; clock.py, mails.py and servers.py the parts the
tests and benches share."""
