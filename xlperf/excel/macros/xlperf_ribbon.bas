Attribute VB_Name = "xlperf_Ribbon"
Option Explicit
' Ribbon callback of the xlperf add-in (xlperf.xlam).
' customUI/customUI14.xml is generated from xlperf/excel/registry.py: every button has
' onAction="xlperf_Ribbon.OnRibbon" and its registry id, which Python dispatches on.
' The module name is prefixed: another add-in's "Ribbon" module would clash.

Public Sub OnRibbon(control As IRibbonControl)
    RunPython "import xlperf.excel; xlperf.excel.on_ribbon('" & control.Id & "')"
End Sub
