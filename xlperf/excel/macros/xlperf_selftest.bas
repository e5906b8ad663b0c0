Attribute VB_Name = "xlperf_Test"
Option Explicit
' Smoke test, packaged only in the .xlsm that tests/test_addin_build.py opens in LibreOffice.
' D1 proves this module was imported and ran; D2 checks the ChrW encoding used for Chinese text.

Public Sub xlperf_SelfTest()
    ThisWorkbook.Worksheets(1).Range("D1").Value = "ok"
    ThisWorkbook.Worksheets(1).Range("D2").Value = ChrW(&H7EE9) & ChrW(&H6548)
End Sub
