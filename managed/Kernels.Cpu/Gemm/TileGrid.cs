namespace Kernels.Cpu.Gemm;

/// <summary>The static 2-D split of a GEMM's C tiles among workers, shared by the fp32 and int8 GEMMs and the indirect convolution.</summary>
internal static class TileGrid
{
    /// <summary>
    /// Splits mPanels × nPanels tiles among workers: tilesM × tilesN = workers, the split with the smallest largest
    /// share (ties: split M, so each worker packs or gathers only its own rows of A).
    /// </summary>
    public static void Split(int mPanels, int nPanels, int workers, out int tilesM, out int tilesN)
    {
        tilesM = 1;
        tilesN = 1;
        long best = long.MaxValue;
        for (int tn = 1; tn <= workers; tn++)
        {
            if (workers % tn != 0)
            {
                continue;
            }

            int tm = workers / tn;
            long share = (long)((mPanels + tm - 1) / tm) * ((nPanels + tn - 1) / tn);
            if (share < best || (share == best && tm > tilesM))
            {
                best = share;
                tilesM = tm;
                tilesN = tn;
            }
        }
    }
}
