"""The periodic review of the audit log: what deserves an auditor's look in one week, and their marks on it.

``periods`` names the week reviewed, ``findings`` finds what is unusual in
a week's entries (pure functions), ``collect`` reads the entries, grants,
assignments and marks within the auditor's communes and runs the finders,
``words`` says each finding in French and English, ``export`` lays the
review out as CSV rows.
"""
