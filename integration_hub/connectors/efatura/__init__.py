"""Turkish e-invoice (e-Fatura / e-Arşiv) connectors: shared UBL-TR parsing, SOAP plumbing, one
subpackage per integrator (Uyumsoft, CRS Soft, EDM, QNB e-Solutions, İşNet)."""
