"""What an inspector and a compliance officer do: look up and export records, periodic reports and their files,
fraud signals, the compliance report, and the periods they are cut by."""
