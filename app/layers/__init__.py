"""Member layers: RFM scores and named layers computed by a job (rfm.py), and operator
segments compiled to one SQL query (segments.py). Reads purchases, points, check-ins and
stores; writes only its own tables."""
