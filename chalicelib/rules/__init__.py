"""Central Rules Management, Location & IP: qualification rules as data (TMF679
productOfferingQualification), evaluated in one place, serviceability by address, region by
postcode or client IP, and guided selling."""
