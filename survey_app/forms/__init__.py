"""The run-time survey form builder (:mod:`survey_app.forms.survey`). The static forms live
beside their blueprints in :mod:`survey_app.web`."""
