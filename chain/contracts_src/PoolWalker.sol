// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface IControllerLike {
    function getContract(bytes32 id) external view returns (address);
}

interface IBondingManagerLike {
    function getFirstTranscoderInPool() external view returns (address);
    function getNextTranscoderInPool(address t) external view returns (address);
}

interface IRoundsManagerLike {
    function currentRound() external view returns (uint256);
}

/// Never deployed: run as the init code of an `eth_call` without `to`. The constructor walks the
/// transcoder pool and returns abi.encode(round, bondingManager, serviceRegistry, pool) as the call's
/// result, so the whole linked list costs one JSON-RPC round trip.
contract PoolWalker {
    constructor(address controller, uint256 maxSize) {
        IControllerLike c = IControllerLike(controller);
        address bm = c.getContract(keccak256("BondingManager"));
        address rm = c.getContract(keccak256("RoundsManager"));
        address sr = c.getContract(keccak256("ServiceRegistry"));
        address[] memory pool = new address[](maxSize);
        uint256 n = 0;
        address cur = IBondingManagerLike(bm).getFirstTranscoderInPool();
        while (cur != address(0) && n < maxSize) {
            pool[n] = cur;
            n++;
            cur = IBondingManagerLike(bm).getNextTranscoderInPool(cur);
        }
        assembly {
            mstore(pool, n)
        }
        bytes memory out = abi.encode(IRoundsManagerLike(rm).currentRound(), bm, sr, pool);
        assembly {
            return(add(out, 32), mload(out))
        }
    }
}
