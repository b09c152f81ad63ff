using System.Text;

namespace Lepton.Tests.Unit.Ingestion;

/// <summary>Builds in-memory CSV sources for the preprocessing tests.</summary>
internal static class Csv
{
    public static MemoryStream Stream(string text) => new(Encoding.UTF8.GetBytes(text));

    public static MemoryStream Lines(params string[] lines) => Stream(string.Join("\n", lines) + "\n");
}
