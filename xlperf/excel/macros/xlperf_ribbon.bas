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
    ' Excel stays open, tab and all, after the last workbook is closed. xlwings' RunPython and its
    ' config lookup read ActiveWorkbook (Set wb = ActiveWorkbook, then wb.Worksheets): with no
    ' workbook that is run-time error 91 before Python starts. So look first.
    If ActiveWorkbook Is Nothing Then
        If InStr(NO_WORKBOOK_BUTTONS, "|" & control.Id & "|") = 0 Then
            ' "Please open the self-evaluation workbook first, then click this button."
            MsgBox ChrW(&H8BF7) & ChrW(&H5148) & ChrW(&H6253) & ChrW(&H5F00) & ChrW(&H81EA) & ChrW(&H8BC4) & _
                ChrW(&H8868) & ChrW(&HFF0C) & ChrW(&H518D) & ChrW(&H70B9) & ChrW(&H51FB) & ChrW(&H6B64) & _
                ChrW(&H6309) & ChrW(&H94AE) & ChrW(&H3002), vbExclamation, "xlperf"
            Exit Sub
        End If
        ' A blank workbook for RunPython to stand on; Python closes it when it is done
        ' (on a Mac RunPython returns before Python has finished, so VBA cannot close it here).
        Workbooks.Add
        blank = ", blank=True"
    End If
    RunPython "import xlperf.excel; xlperf.excel.on_ribbon('" & control.Id & "'" & blank & ")"
End Sub
