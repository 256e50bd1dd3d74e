import collections
import tests.consent.test_property_disclosures as prop

def test_stats(app):
    counts = collections.Counter()
    prop.event = lambda e: counts.update([e])
    prop.test_no_disclosure_without_a_valid_basis_at_that_moment(app)
    for k, v in sorted(counts.items()):
        print(f"{v:6d}  {k}")
