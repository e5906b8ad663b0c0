Attribute VB_Name = "xlperf_Ribbon"
Option Explicit
' Ribbon callback of the xlperf add-in (xlperf.xlam).
' customUI/customUI14.xml is generated from xlperf/excel/registry.py: every button has
' onAction="xlperf_Ribbon.OnRibbon" and its registry id, which Python dispatches on.
' The module name is prefixed: another add-in's "Ribbon" module would clash.

' The buttons that work with no workbook open (registry.py: needs_workbook=False).
' The add-in builder refuses to build when this list and the registry differ.
Private Const NO_WORKBOOK_BUTTONS As String = "|xlperf_new|xlperf_help|"

Public Sub OnRibbon(control As IRibbonControl)
    Dim blank As String
    ' Excel stays open, tab and all, after the last workbook is closed, and a workbook opened in
    ' Protected View (an emailed attachment) is not the ActiveWorkbook either. xlwings' RunPython and
    ' its config lookup read ActiveWorkbook (Set wb = ActiveWorkbook, then wb.Worksheets): with none
    ' that is run-time error 91 before Python starts. So look first.
    If ActiveWorkbook Is Nothing Then
        If InStr(NO_WORKBOOK_BUTTONS, "|" & control.Id & "|") = 0 Then
            If InProtectedView() Then
                MsgBox ProtectedViewMessage(), vbExclamation, "xlperf"
            Else
                MsgBox NoWorkbookMessage(), vbExclamation, "xlperf"
            End If
            Exit Sub
        End If
        ' A blank workbook for RunPython to stand on; Python closes it when it is done
        ' (on a Mac RunPython returns before Python has finished, so VBA cannot close it here).
        Workbooks.Add
        blank = ", blank=True"
    End If
    RunPython "import xlperf.excel; xlperf.excel.on_ribbon('" & control.Id & "'" & blank & ")"
End Sub

Private Function InProtectedView() As Boolean
    ' Application.ActiveProtectedViewWindow: Excel 2010 and later on Windows; an error elsewhere.
    On Error Resume Next
    InProtectedView = Not (Application.ActiveProtectedViewWindow Is Nothing)
End Function

' The messages are Chinese; ChrW keeps this file ASCII. The builder checks that they spell
' xlperf.excel.registry.NO_WORKBOOK_MESSAGE and PROTECTED_VIEW_MESSAGE.
Private Function NoWorkbookMessage() As String
    NoWorkbookMessage = ChrW(&H8BF7) & ChrW(&H5148) & ChrW(&H6253) & ChrW(&H5F00) & ChrW(&H81EA) & ChrW(&H8BC4) & ChrW(&H8868) & ChrW(&HFF0C) & _
        ChrW(&H518D) & ChrW(&H70B9) & ChrW(&H51FB) & ChrW(&H6B64) & ChrW(&H6309) & ChrW(&H94AE) & ChrW(&H3002)
End Function

Private Function ProtectedViewMessage() As String
    ProtectedViewMessage = ChrW(&H81EA) & ChrW(&H8BC4) & ChrW(&H8868) & ChrW(&H5728) & ChrW(&H53D7) & ChrW(&H4FDD) & ChrW(&H62A4) & ChrW(&H7684) & _
        ChrW(&H89C6) & ChrW(&H56FE) & ChrW(&H4E2D) & ChrW(&H6253) & ChrW(&H5F00) & ChrW(&HFF1A) & ChrW(&H8BF7) & ChrW(&H5148) & _
        ChrW(&H70B9) & ChrW(&H51FB) & ChrW(&H63D0) & ChrW(&H793A) & ChrW(&H680F) & ChrW(&H4E0A) & ChrW(&H7684) & ChrW(&H201C) & _
        ChrW(&H542F) & ChrW(&H7528) & ChrW(&H7F16) & ChrW(&H8F91) & ChrW(&H201D) & ChrW(&HFF0C) & ChrW(&H518D) & ChrW(&H70B9) & _
        ChrW(&H51FB) & ChrW(&H6B64) & ChrW(&H6309) & ChrW(&H94AE) & ChrW(&H3002)
End Function
