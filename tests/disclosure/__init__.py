"""The intruder's tests (issue 11): each plays an attack and shows it fails to recover a small
group or to link a response to a person."""
