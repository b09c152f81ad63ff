namespace Lepton.DevHost;

// The one repository-root finder: the dev host uses it, and the test and benchmark projects compile this same file in.
/// <summary>Finds the repository (package.json next to Lepton.Functions.sln) from the working directory or the binaries.</summary>
public static class RepoRoot
{
    public static string Find()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Lepton.Functions.sln")) && File.Exists(Path.Combine(dir.FullName, "package.json")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("Run the dev host from inside the Lepton repository (the folder with Lepton.Functions.sln and package.json).");
    }
}
